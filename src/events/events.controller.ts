import { Controller, Get, HttpCode, HttpStatus, Param, Post, Query } from '@nestjs/common';
import { ApiExtraModels, ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ErrorResponseDto } from '../common/error-response.dto';
import { EventDto, EventIdParamsDto, EventListDto, EventListQueryDto, EventPayloadDto, EventReplayDto } from './events.dto';
import { EventsService } from './events.service';

@ApiTags('events')
@ApiExtraModels(EventPayloadDto)
@Controller('events')
export class EventsController {
  constructor(private readonly events: EventsService) {}

  /** The events the service recorded, newest first, each with its deliveries and their attempts. */
  @Get()
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Invalid filter or cursor', type: ErrorResponseDto })
  listEvents(@Query() query: EventListQueryDto): Promise<EventListDto> {
    return this.events.listEvents(query);
  }

  /** One event with its deliveries and their attempts. */
  @Get(':id')
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Not an event id', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such event', type: ErrorResponseDto })
  getEvent(@Param() params: EventIdParamsDto): Promise<EventDto> {
    return this.events.getEvent(params.id);
  }

  /** Send the event again to the enabled endpoints that want it: same event id (webhook-id), new attempts. */
  @Post(':id/replay')
  @HttpCode(HttpStatus.ACCEPTED)
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Not an event id', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such event', type: ErrorResponseDto })
  replayEvent(@Param() params: EventIdParamsDto): Promise<EventReplayDto> {
    return this.events.replayEvent(params.id);
  }
}

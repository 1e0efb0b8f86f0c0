import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ErrorResponseDto } from '../common/error-response.dto';
import {
  CreateEventEndpointDto,
  EventEndpointDto,
  EventEndpointIdParamsDto,
  EventEndpointListDto,
  EventEndpointWithSecretDto,
  UpdateEventEndpointDto,
} from './event-endpoints.dto';
import { EventEndpointsService } from './event-endpoints.service';

@ApiTags('events')
@Controller('event-endpoints')
export class EventEndpointsController {
  constructor(private readonly endpoints: EventEndpointsService) {}

  /** Register a URL to receive signed events; the answer holds its secret, shown only here and on rotation. */
  @Post()
  @RequirePermission(Permission.Admin)
  @ApiResponse({
    status: 400,
    description: 'Invalid URL (not http(s), or a private address) or unknown event type',
    type: ErrorResponseDto,
  })
  createEventEndpoint(@Body() body: CreateEventEndpointDto): Promise<EventEndpointWithSecretDto> {
    return this.endpoints.createEventEndpoint(body);
  }

  /** The registered event endpoints. */
  @Get()
  @RequirePermission(Permission.Admin)
  listEventEndpoints(): Promise<EventEndpointListDto> {
    return this.endpoints.listEventEndpoints();
  }

  /** One event endpoint. */
  @Get(':id')
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Not an endpoint id', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such endpoint', type: ErrorResponseDto })
  getEventEndpoint(@Param() params: EventEndpointIdParamsDto): Promise<EventEndpointDto> {
    return this.endpoints.getEventEndpoint(params.id);
  }

  /** Change an endpoint's URL, event types, description, or enable/disable it. */
  @Patch(':id')
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Invalid input', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such endpoint', type: ErrorResponseDto })
  updateEventEndpoint(@Param() params: EventEndpointIdParamsDto, @Body() body: UpdateEventEndpointDto): Promise<EventEndpointDto> {
    return this.endpoints.updateEventEndpoint(params.id, body);
  }

  /** Remove an endpoint (answered as it was); nothing more is sent to it. */
  @Delete(':id')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Not an endpoint id', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such endpoint', type: ErrorResponseDto })
  deleteEventEndpoint(@Param() params: EventEndpointIdParamsDto): Promise<EventEndpointDto> {
    return this.endpoints.deleteEventEndpoint(params.id);
  }

  /**
   * A new signing secret. The previous one keeps signing too (a second signature in
   * `webhook-signature`) until `previous_secret_expires_at`, so receivers can switch without losing events.
   */
  @Post(':id/rotate-secret')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Not an endpoint id', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such endpoint', type: ErrorResponseDto })
  rotateEventEndpointSecret(@Param() params: EventEndpointIdParamsDto): Promise<EventEndpointWithSecretDto> {
    return this.endpoints.rotateEventEndpointSecret(params.id);
  }
}

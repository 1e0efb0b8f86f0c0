import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ErrorResponseDto } from '../common/error-response.dto';
import {
  AssistantDto,
  AssistantIdParamsDto,
  AssistantListDto,
  AssistantWithSecretDto,
  CreateAssistantDto,
  UpdateAssistantDto,
} from './assistants.dto';
import { AssistantsService } from './assistants.service';

@ApiTags('assistants')
@Controller('assistants')
export class AssistantsController {
  constructor(private readonly assistants: AssistantsService) {}

  /** Creates an assistant; the answer holds its signing secret, shown only here and on rotation. */
  @Post()
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Invalid field (named in details), e.g. a private agent_url', type: ErrorResponseDto })
  createAssistant(@Body() body: CreateAssistantDto): Promise<AssistantWithSecretDto> {
    return this.assistants.createAssistant(body);
  }

  /** The assistants, oldest first. */
  @Get()
  @RequirePermission(Permission.View)
  listAssistants(): Promise<AssistantListDto> {
    return this.assistants.listAssistants();
  }

  /** One assistant. */
  @Get(':id')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, description: 'Not an assistant id', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such assistant', type: ErrorResponseDto })
  getAssistant(@Param() params: AssistantIdParamsDto): Promise<AssistantDto> {
    return this.assistants.getAssistant(params.id);
  }

  /** Changes an assistant; calls already in conversation use the change from their next turn. */
  @Patch(':id')
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Invalid field (named in details)', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such assistant', type: ErrorResponseDto })
  updateAssistant(@Param() params: AssistantIdParamsDto, @Body() body: UpdateAssistantDto): Promise<AssistantDto> {
    return this.assistants.updateAssistant(params.id, body);
  }

  /** Removes an assistant (answered as it was). */
  @Delete(':id')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Not an assistant id', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such assistant', type: ErrorResponseDto })
  @ApiResponse({
    status: 409,
    description: 'A number still routes to it (code conflict); clear its assistant_id first',
    type: ErrorResponseDto,
  })
  deleteAssistant(@Param() params: AssistantIdParamsDto): Promise<AssistantDto> {
    return this.assistants.deleteAssistant(params.id);
  }

  /**
   * A new signing secret. The previous one keeps signing too (a second signature in
   * `webhook-signature`) until `previous_secret_expires_at`, so the agent can switch without refusing turns.
   */
  @Post(':id/rotate-secret')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Not an assistant id', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'No such assistant', type: ErrorResponseDto })
  rotateAssistantSecret(@Param() params: AssistantIdParamsDto): Promise<AssistantWithSecretDto> {
    return this.assistants.rotateAssistantSecret(params.id);
  }
}

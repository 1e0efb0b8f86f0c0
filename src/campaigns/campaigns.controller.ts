import { Body, Controller, Get, HttpCode, HttpStatus, Param, Post, Query, Res, UseInterceptors } from '@nestjs/common';
import type { Response } from 'express';
import { ApiExtension, ApiExtraModels, ApiResponse, ApiTags, getSchemaPath } from '@nestjs/swagger';
import { RequireAnyPermission, RequirePermission } from '../auth/auth.decorators';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { CurrentUser } from '../auth/authenticated-user';
import { Permission } from '../auth/permission';
import { ErrorResponseDto } from '../common/error-response.dto';
import {
  CampaignDryRunDto,
  CampaignDto,
  CampaignIdParamsDto,
  CampaignListDto,
  CampaignListQueryDto,
  CampaignRecipientListDto,
  CampaignRecipientQueryDto,
  CreateCampaignDto,
  CreateCampaignQueryDto,
} from './campaigns.dto';
import { CampaignUploadInterceptor } from './campaign-upload.interceptor';
import { CampaignsService } from './campaigns.service';

/** The fields of CreateCampaignDto a form may give one by one (the CSV file being recipients). */
const FORM_FIELDS = [
  'name',
  'message',
  'audio_url',
  'twiml',
  'assistant_id',
  'sms_body',
  'from',
  'start_at',
  'calling_window',
  'pacing',
  'retry',
];
const JSON_FORM_FIELDS = ['from', 'calling_window', 'pacing', 'retry'];

@ApiTags('campaigns')
@Controller('campaigns')
export class CampaignsController {
  constructor(private readonly campaigns: CampaignsService) {}

  /**
   * Creates a campaign (phone:call for calls, phone:sms for an `sms_body` campaign), or with
   * `dry_run=true` only answers the import report and the estimated cost.
   */
  @Post()
  @RequireAnyPermission(Permission.Call, Permission.Sms)
  @ApiExtraModels(CampaignDto, CampaignDryRunDto)
  @ApiResponse({ status: 201, type: CampaignDto, description: 'The campaign, stored with its recipients and queued' })
  @ApiResponse({
    status: 200,
    description: 'Dry run: the import report and the estimated cost; nothing was stored',
    schema: { $ref: getSchemaPath(CampaignDryRunDto) },
  })
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid campaign (the recipients are validated row by row instead)' })
  @ApiResponse({ status: 415, type: ErrorResponseDto, description: 'A body other than JSON, multipart/form-data or text/csv' })
  @ApiExtension('x-request-content', {
    'application/json': { schema: { $ref: getSchemaPath(CreateCampaignDto) } },
    'multipart/form-data': {
      schema: {
        type: 'object',
        required: ['recipients'],
        properties: {
          recipients: {
            type: 'string',
            format: 'binary',
            description: 'The recipients as a CSV file: a header row with `to` and a column per variable.',
          },
          campaign: {
            type: 'string',
            description: 'The other fields of CreateCampaignDto as one JSON object; or give them as the form fields below instead.',
          },
          ...Object.fromEntries(
            FORM_FIELDS.map((field) => [
              field,
              { type: 'string', description: `CreateCampaignDto's ${field}${JSON_FORM_FIELDS.includes(field) ? ', as JSON text' : ''}.` },
            ]),
          ),
        },
      },
    },
    'text/csv': {
      schema: {
        type: 'string',
        description:
          'The recipients as CSV, a header row with `to` and a column per variable; the other fields of CreateCampaignDto ' +
          'are query parameters (`from`, `calling_window`, `pacing` and `retry` as JSON text).',
      },
    },
  })
  @ApiExtraModels(CreateCampaignDto)
  @UseInterceptors(CampaignUploadInterceptor)
  async createCampaign(
    @Body() body: CreateCampaignDto,
    @Query() query: CreateCampaignQueryDto,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<CampaignDto | CampaignDryRunDto> {
    if (query.dry_run) res.status(HttpStatus.OK);
    return this.campaigns.createCampaign(body, query.dry_run === true, user);
  }

  /** Lists campaigns, newest first. */
  @Get()
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'Invalid filter or cursor' })
  listCampaigns(@Query() query: CampaignListQueryDto): Promise<CampaignListDto> {
    return this.campaigns.listCampaigns(query);
  }

  /** One campaign with its recipients counted by state, its spend so far and an ETA. */
  @Get(':id')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'id is not a campaign id' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such campaign' })
  getCampaign(@Param() params: CampaignIdParamsDto): Promise<CampaignDto> {
    return this.campaigns.getCampaign(params.id);
  }

  /** The recipients in import order, each with its attempts and their call or message sids. */
  @Get(':id/recipients')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'id is not a campaign id, or an invalid filter or cursor' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such campaign' })
  listCampaignRecipients(
    @Param() params: CampaignIdParamsDto,
    @Query() query: CampaignRecipientQueryDto,
  ): Promise<CampaignRecipientListDto> {
    return this.campaigns.listRecipients(params.id, query);
  }

  /** Stops new attempts until resumed; calls in progress finish. */
  @Post(':id/pause')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Call)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'id is not a campaign id' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such campaign' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The campaign is not scheduled or running' })
  pauseCampaign(@Param() params: CampaignIdParamsDto): Promise<CampaignDto> {
    return this.campaigns.pauseCampaign(params.id);
  }

  /** Resumes a paused campaign where it stopped. */
  @Post(':id/resume')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Call)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'id is not a campaign id' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such campaign' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The campaign is not paused' })
  resumeCampaign(@Param() params: CampaignIdParamsDto): Promise<CampaignDto> {
    return this.campaigns.resumeCampaign(params.id);
  }

  /** Ends the campaign: no new attempts, recipients not reached are skipped; calls in progress finish. */
  @Post(':id/cancel')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Call)
  @ApiResponse({ status: 400, type: ErrorResponseDto, description: 'id is not a campaign id' })
  @ApiResponse({ status: 404, type: ErrorResponseDto, description: 'No such campaign' })
  @ApiResponse({ status: 409, type: ErrorResponseDto, description: 'The campaign has already ended' })
  cancelCampaign(@Param() params: CampaignIdParamsDto): Promise<CampaignDto> {
    return this.campaigns.cancelCampaign(params.id);
  }
}

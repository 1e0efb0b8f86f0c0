import { Controller, Get, Query } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ErrorResponseDto } from '../common/error-response.dto';
import { SmsConversationDto, SmsConversationQueryDto } from './conversations.dto';
import { ConversationsService } from './conversations.service';

@ApiTags('conversations')
@Controller('conversations')
export class SmsConversationsController {
  constructor(private readonly conversations: ConversationsService) {}

  /**
   * The transcript of the SMS conversation between a number and an assistant's number: every text it
   * sent there and every answer of the agent, oldest first (the latest `limit`). Empty when there is none.
   */
  @Get('sms')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, description: 'A number that is not E.164 (named in details), or a bad limit', type: ErrorResponseDto })
  getSmsConversation(@Query() query: SmsConversationQueryDto): Promise<SmsConversationDto> {
    return this.conversations.smsConversation(query);
  }
}

import { Controller, Get, Query } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ApiTwilioErrors } from '../common/api-twilio-errors.decorator';
import { ErrorResponseDto } from '../common/error-response.dto';
import { BalanceDto, StatsDto, StatsQueryDto } from './billing.dto';
import { BillingService } from './billing.service';

@ApiTags('billing')
@Controller()
export class BillingController {
  constructor(private readonly billing: BillingService) {}

  /** The Twilio account's balance. */
  @Get('balance')
  @RequirePermission(Permission.View)
  @ApiTwilioErrors()
  getBalance(): Promise<BalanceDto> {
    return this.billing.getBalance();
  }

  /** Calls, messages, numbers and their cost over a period (default: the last 30 days). */
  @Get('stats')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, description: 'Invalid period', type: ErrorResponseDto })
  getStats(@Query() query: StatsQueryDto): Promise<StatsDto> {
    return this.billing.getStats(query);
  }
}

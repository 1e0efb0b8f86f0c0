import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/authenticated-user';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ApiTwilioErrors } from '../common/api-twilio-errors.decorator';
import { ErrorResponseDto } from '../common/error-response.dto';
import { Idempotent } from '../idempotency/idempotent.decorator';
import {
  ListNumbersQueryDto,
  NumberSidParamsDto,
  PhoneNumberDto,
  PhoneNumberListDto,
  PurchaseNumberDto,
  SearchNumbersQueryDto,
  SearchNumbersResponseDto,
  UpdateNumberDto,
} from './numbers.dto';
import { NumbersService } from './numbers.service';

const ACCEPTED_PURCHASE =
  "Twilio's answer is not stored yet: status `unknown` (Twilio did not answer in time or failed; sid null), which the next " +
  "comparison with Twilio's list of owned numbers settles (`active` with its sid, or `failed`: nothing was bought), " +
  'or Twilio bought the number and its row is completed shortly. Find it with `GET numbers?status=unknown` ' +
  '(or `active` once confirmed); do not buy it again.';

@ApiTags('numbers')
@Controller('numbers')
export class NumbersController {
  constructor(private readonly numbers: NumbersService) {}

  /** Search the numbers Twilio has available to buy. */
  @Get('search')
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, description: 'Invalid filter', type: ErrorResponseDto })
  @ApiTwilioErrors()
  searchNumbers(@Query() query: SearchNumbersQueryDto): Promise<SearchNumbersResponseDto> {
    return this.numbers.searchNumbers(query);
  }

  /** Buy a number and point its voice, SMS and status webhooks at this service. */
  @Post('purchase')
  @RequirePermission(Permission.Admin)
  @ApiResponse({
    status: 400,
    description: 'Invalid input, or Twilio refused the number (twilio_code 21421/21422)',
    type: ErrorResponseDto,
  })
  @ApiResponse({ status: 201, type: PhoneNumberDto, description: 'Twilio bought the number; it is stored (status `active`)' })
  @ApiResponse({ status: 202, type: PhoneNumberDto, description: ACCEPTED_PURCHASE })
  @ApiTwilioErrors({ charges: true, spendingLimit: true, intent: true })
  @Idempotent({ conflict: 'This service already owns the number, or an earlier purchase of it is not settled yet (code conflict)' })
  async purchaseNumber(
    @Body() body: PurchaseNumberDto,
    @CurrentUser() user: AuthenticatedUser,
    @Res({ passthrough: true }) res: Response,
  ): Promise<PhoneNumberDto> {
    const { number, accepted } = await this.numbers.purchaseNumber(body, user.sub);
    if (accepted) res.status(HttpStatus.ACCEPTED);
    return number;
  }

  /**
   * The numbers this service owns (or, with `status`, the purchases not settled yet, failed or released), compared
   * with the Twilio account first: numbers bought elsewhere are added, numbers gone are released, purchases whose
   * answer was lost are settled.
   */
  @Get()
  @RequirePermission(Permission.View)
  @ApiResponse({ status: 400, description: 'Invalid status', type: ErrorResponseDto })
  listNumbers(@Query() query: ListNumbersQueryDto): Promise<PhoneNumberListDto> {
    return this.numbers.listNumbers(query);
  }

  /** Change a number's label and/or webhook base URL. */
  @Patch(':sid')
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Invalid input', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'Not a number this service owns', type: ErrorResponseDto })
  @ApiTwilioErrors()
  updateNumber(@Param() params: NumberSidParamsDto, @Body() body: UpdateNumberDto): Promise<PhoneNumberDto> {
    return this.numbers.updateNumber(params.sid, body);
  }

  /** Release a number back to Twilio. */
  @Delete(':sid')
  @HttpCode(HttpStatus.OK)
  @RequirePermission(Permission.Admin)
  @ApiResponse({ status: 400, description: 'Invalid sid', type: ErrorResponseDto })
  @ApiResponse({ status: 404, description: 'Unknown or already released', type: ErrorResponseDto })
  @ApiTwilioErrors()
  releaseNumber(@Param() params: NumberSidParamsDto): Promise<PhoneNumberDto> {
    return this.numbers.releaseNumber(params.sid);
  }
}

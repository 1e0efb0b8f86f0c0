import { Body, Controller, Delete, Get, HttpCode, HttpStatus, Param, Patch, Post, Query } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import { CurrentUser } from '../auth/authenticated-user';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { RequirePermission } from '../auth/auth.decorators';
import { Permission } from '../auth/permission';
import { ApiTwilioErrors } from '../common/api-twilio-errors.decorator';
import { ErrorResponseDto } from '../common/error-response.dto';
import { Idempotent } from '../idempotency/idempotent.decorator';
import {
  NumberSidParamsDto,
  PhoneNumberDto,
  PhoneNumberListDto,
  PurchaseNumberDto,
  SearchNumbersQueryDto,
  SearchNumbersResponseDto,
  UpdateNumberDto,
} from './numbers.dto';
import { NumbersService } from './numbers.service';

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
  @ApiTwilioErrors({ charges: true })
  @Idempotent({ conflict: 'This service already owns the number (code conflict)' })
  purchaseNumber(@Body() body: PurchaseNumberDto, @CurrentUser() user: AuthenticatedUser): Promise<PhoneNumberDto> {
    return this.numbers.purchaseNumber(body, user.sub);
  }

  /** The numbers this service owns, reconciled with the Twilio account. */
  @Get()
  @RequirePermission(Permission.View)
  listNumbers(): Promise<PhoneNumberListDto> {
    return this.numbers.listNumbers();
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

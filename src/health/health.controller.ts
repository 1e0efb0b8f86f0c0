import { Controller, Get, HttpStatus, Res } from '@nestjs/common';
import { ApiResponse, ApiTags } from '@nestjs/swagger';
import type { Response } from 'express';
import { CurrentUser } from '../auth/authenticated-user';
import type { AuthenticatedUser } from '../auth/authenticated-user';
import { Public } from '../auth/auth.decorators';
import { ErrorResponseDto } from '../common/error-response.dto';
import { HealthDto, LivenessDto, ReadinessDto } from './health.dto';
import { HealthService } from './health.service';

@ApiTags('health')
@Controller()
export class HealthController {
  constructor(private readonly health: HealthService) {}

  /** Service health; details (database, Twilio, version) only for a bearer token holding phone:view. */
  @Get('health')
  @Public()
  @ApiResponse({ status: 200, description: 'Database and Twilio are up', type: HealthDto })
  @ApiResponse({ status: 503, description: 'The database or Twilio is down (same body, status "error")', type: HealthDto })
  @ApiResponse({ status: 401, description: 'A bearer token was sent and is invalid', type: ErrorResponseDto })
  async getHealth(@CurrentUser() user: AuthenticatedUser | undefined, @Res({ passthrough: true }) res: Response): Promise<HealthDto> {
    const health = await this.health.getHealth(user);
    res.status(health.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).setHeader('Cache-Control', 'no-store');
    return health;
  }

  /** Liveness probe: 200 while the process serves HTTP. Touches neither the database nor Twilio. */
  @Get('health/live')
  @Public()
  @ApiResponse({ status: 200, description: 'The process is up', type: LivenessDto })
  @ApiResponse({ status: 401, description: 'A bearer token was sent and is invalid (probes send none)', type: ErrorResponseDto })
  getLiveness(@Res({ passthrough: true }) res: Response): LivenessDto {
    res.setHeader('Cache-Control', 'no-store');
    return { status: 'ok' };
  }

  /** Readiness probe: 200 when the database answers and the instance is not shutting down; 503 otherwise. Never asks Twilio. */
  @Get('health/ready')
  @Public()
  @ApiResponse({ status: 200, description: 'Ready for traffic', type: ReadinessDto })
  @ApiResponse({ status: 401, description: 'A bearer token was sent and is invalid (probes send none)', type: ErrorResponseDto })
  @ApiResponse({
    status: 503,
    description: 'The database is down or the instance is draining (same body, status "error")',
    type: ReadinessDto,
  })
  async getReadiness(@Res({ passthrough: true }) res: Response): Promise<ReadinessDto> {
    const readiness = await this.health.getReadiness();
    res.status(readiness.status === 'ok' ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE).setHeader('Cache-Control', 'no-store');
    return readiness;
  }
}

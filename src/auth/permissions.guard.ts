import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { TokenExpiredError } from 'jsonwebtoken';
import { ExtractJwt } from 'passport-jwt';
import { AppError } from '../common/app-error';
import { appLogger } from '../common/logger';
import { RequestWithId, requestIdOf } from '../common/request-id.middleware';
import { AuthFailureLimiter } from '../throttling/auth-failure-limiter';
import { PERMISSION_KEY, PUBLIC_KEY } from './auth.decorators';
import { AuthenticatedUser } from './authenticated-user';
import { Permission } from './permission';
import { VerifiedTokens } from './verified-tokens';

/** The token as JwtStrategy reads it (`Authorization: Bearer <token>`). */
const bearerToken = ExtractJwt.fromAuthHeaderAsBearerToken();

/**
 * Global guard, deny by default: a route runs only when it is marked @Public() or
 * @RequirePermission(p) and the bearer token holds p.
 */
@Injectable()
export class PermissionsGuard extends AuthGuard('jwt') {
  private readonly verified = new VerifiedTokens();

  constructor(
    private readonly reflector: Reflector,
    private readonly authFailures: AuthFailureLimiter,
  ) {
    super();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets);
    const required = this.reflector.getAllAndOverride<Permission | Permission[] | undefined>(PERMISSION_KEY, targets);
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined>; ip?: string }>();

    if (isPublic && !request.headers.authorization) return true;
    if (!isPublic && !required) {
      throw new AppError(HttpStatus.FORBIDDEN, 'forbidden', 'This route is not open to any permission');
    }
    const token = bearerToken(request);
    const known = token ? this.verified.get(token) : undefined;
    try {
      if (known) (request as { user?: AuthenticatedUser }).user = known;
      else await (super.canActivate(context) as Promise<boolean>);
    } catch (error) {
      // Only a token that was sent and refused counts: a missing one guesses nothing.
      if (request.headers.authorization && error instanceof AppError && error.status === HttpStatus.UNAUTHORIZED) {
        throw (await this.authFailures.recordFailure(request.ip)) ?? error;
      }
      throw error;
    }
    const user = context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user;
    if (token && !known) this.verified.remember(token, user);
    if (isPublic) return true;
    const anyOf = Array.isArray(required) ? required : [required!];
    if (!anyOf.some((permission) => user.permissions.has(permission))) {
      throw new AppError(HttpStatus.FORBIDDEN, 'forbidden', `This action requires the ${anyOf.join(' or ')} permission`);
    }
    return true;
  }

  /** The reason goes to the log; the client learns only missing, expired or invalid, never what was expected. */
  handleRequest<TUser>(err: unknown, user: TUser | false, info: unknown, context: ExecutionContext): TUser {
    if (err instanceof AppError) throw err;
    if (err || !user) {
      const request = context.switchToHttp().getRequest<RequestWithId>();
      const reason = err instanceof Error ? err.message : info instanceof Error ? info.message : 'no user';
      appLogger().event('info', 'authentication_failed', { request_id: requestIdOf(request), reason });
      const message = !request.headers.authorization
        ? 'missing bearer token'
        : info instanceof TokenExpiredError
          ? 'the bearer token has expired'
          : 'invalid bearer token';
      throw new AppError(HttpStatus.UNAUTHORIZED, 'unauthorized', `Authentication failed: ${message}`);
    }
    return user;
  }
}

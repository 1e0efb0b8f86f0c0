import { ExecutionContext, HttpStatus, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { AppError } from '../common/app-error';
import { PERMISSION_KEY, PUBLIC_KEY } from './auth.decorators';
import { AuthenticatedUser } from './authenticated-user';
import { Permission } from './permission';

/**
 * Global guard, deny by default: a route runs only when it is marked @Public() or
 * @RequirePermission(p) and the bearer token holds p.
 */
@Injectable()
export class PermissionsGuard extends AuthGuard('jwt') {
  constructor(private readonly reflector: Reflector) {
    super();
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const targets = [context.getHandler(), context.getClass()];
    const isPublic = this.reflector.getAllAndOverride<boolean>(PUBLIC_KEY, targets);
    const required = this.reflector.getAllAndOverride<Permission | undefined>(PERMISSION_KEY, targets);
    const request = context.switchToHttp().getRequest<{ headers: Record<string, string | undefined> }>();

    if (isPublic && !request.headers.authorization) return true;
    if (!isPublic && !required) {
      throw new AppError(HttpStatus.FORBIDDEN, 'forbidden', 'This route is not open to any permission');
    }
    await (super.canActivate(context) as Promise<boolean>);
    if (isPublic) return true;
    const user = context.switchToHttp().getRequest<{ user: AuthenticatedUser }>().user;
    if (!user.permissions.has(required!)) {
      throw new AppError(HttpStatus.FORBIDDEN, 'forbidden', `This action requires the ${required} permission`);
    }
    return true;
  }

  handleRequest<TUser>(err: unknown, user: TUser | false, info: unknown): TUser {
    if (err instanceof AppError) throw err;
    if (err || !user) {
      const reason = info instanceof Error ? info.message : 'missing or invalid bearer token';
      throw new AppError(HttpStatus.UNAUTHORIZED, 'unauthorized', `Authentication failed: ${reason}`);
    }
    return user;
  }
}

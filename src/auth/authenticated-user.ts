import { ExecutionContext, createParamDecorator } from '@nestjs/common';
import { Permission } from './permission';

export interface AuthenticatedUser {
  sub: string;
  permissions: Set<Permission>;
}

/** The caller of a guarded route; undefined on a public route called without a token. */
export const CurrentUser = createParamDecorator(
  (_data: unknown, ctx: ExecutionContext): AuthenticatedUser | undefined =>
    ctx.switchToHttp().getRequest<{ user?: AuthenticatedUser }>().user,
);

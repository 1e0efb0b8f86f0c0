import { SetMetadata, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiExtension, ApiForbiddenResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { ErrorResponseDto } from '../common/error-response.dto';
import { Permission } from './permission';

export const PERMISSION_KEY = 'samsaek:permission';
export const PUBLIC_KEY = 'samsaek:public';
export const BEARER_SCHEME = 'bearer';

/** Requires a bearer token holding `permission`, and documents exactly that in the spec. */
export function RequirePermission(permission: Permission): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(PERMISSION_KEY, permission),
    ApiBearerAuth(BEARER_SCHEME),
    ApiExtension('x-permission', permission),
    ApiUnauthorizedResponse({ description: 'Missing, expired or invalid bearer token', type: ErrorResponseDto }),
    ApiForbiddenResponse({ description: `The token lacks ${permission}`, type: ErrorResponseDto }),
  );
}

/**
 * Requires a bearer token holding any of `permissions` (the service then checks the one the request
 * needs, as campaigns do: phone:call for calls, phone:sms for texts). The spec's x-permission names
 * the first; the others are listed in x-permission-alternatives.
 */
export function RequireAnyPermission(first: Permission, ...others: Permission[]): MethodDecorator & ClassDecorator {
  return applyDecorators(
    SetMetadata(PERMISSION_KEY, [first, ...others]),
    ApiBearerAuth(BEARER_SCHEME),
    ApiExtension('x-permission', first),
    ApiExtension('x-permission-alternatives', others),
    ApiUnauthorizedResponse({ description: 'Missing, expired or invalid bearer token', type: ErrorResponseDto }),
    ApiForbiddenResponse({
      description: `The token lacks ${[first, ...others].join(' and ')}, or the one this request needs`,
      type: ErrorResponseDto,
    }),
  );
}

/**
 * No bearer token needed. A token that is sent is still verified, so a public route can show more
 * to an authenticated caller (health). Webhooks are public here and checked by their signature.
 */
export function Public(): MethodDecorator & ClassDecorator {
  return applyDecorators(SetMetadata(PUBLIC_KEY, true), ApiExtension('x-permission', 'public'));
}

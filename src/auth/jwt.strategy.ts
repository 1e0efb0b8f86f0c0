import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy, StrategyOptionsWithoutRequest } from 'passport-jwt';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AuthenticatedUser } from './authenticated-user';
import { permissionsFromClaims } from './permission';

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const options: StrategyOptionsWithoutRequest = {
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      secretOrKey: config.jwt.verifyKey,
      algorithms: [config.jwt.algorithm],
      ignoreExpiration: false,
      ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
      ...(config.jwt.audience ? { audience: config.jwt.audience } : {}),
    };
    super(options);
  }

  validate(payload: { sub?: unknown; permissions?: unknown; scope?: unknown }): AuthenticatedUser | false {
    if (typeof payload.sub !== 'string' || payload.sub === '') return false;
    return { sub: payload.sub, permissions: permissionsFromClaims(payload) };
  }
}

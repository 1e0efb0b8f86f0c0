import { Inject, Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { ExtractJwt, Strategy, StrategyOptionsWithoutRequest } from 'passport-jwt';
import { AppError } from '../common/app-error';
import { hasUnstorableChar } from '../common/storable-text';
import type { AppConfig } from '../config/app-config';
import { APP_CONFIG } from '../config/config.module';
import { AuthenticatedUser } from './authenticated-user';
import { permissionsFromClaims } from './permission';

/** The subject is stored as created_by / purchased_by: varchar(200). */
export const MAX_SUBJECT_LENGTH = 200;

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
    // a valid token the service cannot record: the client's request is at fault, not its credentials
    if (payload.sub.length > MAX_SUBJECT_LENGTH) {
      throw AppError.invalidField('sub', `The token's sub claim must be at most ${MAX_SUBJECT_LENGTH} characters long`);
    }
    if (hasUnstorableChar(payload.sub)) {
      throw AppError.invalidField('sub', "The token's sub claim must not contain NUL characters or unpaired surrogates");
    }
    return { sub: payload.sub, permissions: permissionsFromClaims(payload) };
  }
}

import { createPublicKey, createSecretKey, KeyObject } from 'node:crypto';
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

/**
 * The verification key parsed once. Given a string, jsonwebtoken first tries to read it as a PEM
 * public key and, for a shared secret, throws and catches on every request before making a secret
 * key of it. A PEM that cannot be parsed stays a string, and every token is refused as before.
 */
function verificationKey(config: AppConfig): KeyObject | string {
  if (config.jwt.algorithm === 'HS256') return createSecretKey(Buffer.from(config.jwt.verifyKey, 'utf8'));
  try {
    return createPublicKey(config.jwt.verifyKey);
  } catch {
    return config.jwt.verifyKey;
  }
}

@Injectable()
export class JwtStrategy extends PassportStrategy(Strategy, 'jwt') {
  constructor(@Inject(APP_CONFIG) config: AppConfig) {
    const options: StrategyOptionsWithoutRequest = {
      jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(),
      // jsonwebtoken accepts a KeyObject; given a string it parses the key again on every request
      secretOrKey: verificationKey(config) as unknown as Buffer,
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

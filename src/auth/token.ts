import jwt from 'jsonwebtoken';
import { AppConfig } from '../config/app-config';

export interface TokenRequest {
  sub: string;
  permissions: string[];
  ttl: string;
}

/** Mints a token the running service accepts (development and tests). */
export function mintToken(config: AppConfig, request: TokenRequest): string {
  if (!config.jwt.signKey) throw new Error('No signing key: set JWT_SECRET (HS256) or JWT_PRIVATE_KEY (RS256)');
  return jwt.sign({ permissions: request.permissions }, config.jwt.signKey, {
    algorithm: config.jwt.algorithm,
    subject: request.sub,
    expiresIn: request.ttl as jwt.SignOptions['expiresIn'],
    ...(config.jwt.issuer ? { issuer: config.jwt.issuer } : {}),
    ...(config.jwt.audience ? { audience: config.jwt.audience } : {}),
  });
}

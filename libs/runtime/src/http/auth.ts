import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import {
  CanActivate,
  createParamDecorator,
  ExecutionContext,
  ForbiddenException,
  Injectable,
  SetMetadata,
  UnauthorizedException,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { jwtVerify, SignJWT } from 'jose';
import { z } from 'zod';

/** Who may do what: shoppers act on their own data; analysts read the log; operators run the platform. */
export const ROLES = ['shopper', 'agent', 'analyst', 'operator'] as const;
export type Role = (typeof ROLES)[number];

export interface Principal {
  /** For a shopper (or an agent acting for one), the shopper's id: every query is scoped by it. */
  subject: string;
  roles: Role[];
}

const ISSUER = 'assent';
const AUDIENCE = 'assent';
const Claims = z.object({ sub: z.string().min(1).max(200), roles: z.array(z.enum(ROLES)).min(1) });

/**
 * The HS256 signing secret for access tokens. Deployments set ASSENT_JWT_SECRET; the embedded default
 * makes one on first start and keeps it beside its data, so `npm run assent -- token` can sign with it.
 */
export function accessTokenSecret(env = process.env): Uint8Array {
  const configured = env.ASSENT_JWT_SECRET;
  if (configured) {
    if (configured.length < 32) throw new Error('ASSENT_JWT_SECRET must be at least 32 characters');
    return new TextEncoder().encode(configured);
  }
  if (env.DATABASE_URL || env.KAFKA_BROKERS) {
    throw new Error('ASSENT_JWT_SECRET is required when running against PostgreSQL or Kafka');
  }
  const file = join(resolve(env.ASSENT_DATA_DIR ?? '.data/assent'), '..', 'dev-jwt-secret');
  if (!existsSync(file)) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return new TextEncoder().encode(readFileSync(file, 'utf8').trim());
}

export async function issueAccessToken(
  principal: Principal,
  secret: Uint8Array,
  ttl: string | number = '12h',
): Promise<string> {
  return new SignJWT({ roles: principal.roles })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(principal.subject)
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setIssuedAt()
    .setExpirationTime(ttl)
    .sign(secret);
}

export async function verifyAccessToken(token: string, secret: Uint8Array): Promise<Principal> {
  const { payload } = await jwtVerify(token, secret, { issuer: ISSUER, audience: AUDIENCE, algorithms: ['HS256'] });
  const claims = Claims.parse(payload);
  return { subject: claims.sub, roles: claims.roles };
}

const PUBLIC = 'assent:public';
const REQUIRED_ROLES = 'assent:roles';

/** Only liveness/readiness probes and the API description: everything else needs a token. */
export const Public = () => SetMetadata(PUBLIC, true);
/** Any of these roles may call the endpoint; without it, any authenticated principal may. */
export const Roles = (...roles: Role[]) => SetMetadata(REQUIRED_ROLES, roles);

interface AuthenticatedRequest {
  headers: Record<string, string | string[] | undefined>;
  principal?: Principal;
}

@Injectable()
export class AccessTokenGuard implements CanActivate {
  constructor(
    private readonly reflector: Reflector,
    private readonly secret: Uint8Array,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (context.getType() !== 'http') return true;
    const targets = [context.getHandler(), context.getClass()];
    if (this.reflector.getAllAndOverride<boolean>(PUBLIC, targets)) return true;
    const request = context.switchToHttp().getRequest<AuthenticatedRequest>();
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw new UnauthorizedException('a bearer access token is required');
    try {
      request.principal = await verifyAccessToken(match[1], this.secret);
    } catch {
      throw new UnauthorizedException('the access token is invalid or expired');
    }
    const required = this.reflector.getAllAndOverride<Role[] | undefined>(REQUIRED_ROLES, targets);
    if (required && !required.some((role) => request.principal!.roles.includes(role))) {
      throw new ForbiddenException(`this needs one of the roles: ${required.join(', ')}`);
    }
    return true;
  }
}

/** The authenticated principal of the request (the guard has put it there). */
export const CurrentPrincipal = createParamDecorator((_: unknown, context: ExecutionContext): Principal => {
  const principal = context.switchToHttp().getRequest<AuthenticatedRequest>().principal;
  if (!principal) throw new UnauthorizedException('not authenticated');
  return principal;
});

/** The shopper a request acts for; analysts and operators are not shoppers and are refused here. */
export function shopperOf(principal: Principal): string {
  if (!principal.roles.includes('shopper') && !principal.roles.includes('agent')) {
    throw new ForbiddenException('only a shopper (or an agent acting for one) can do this');
  }
  return principal.subject;
}

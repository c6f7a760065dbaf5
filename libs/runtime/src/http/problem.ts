import { ArgumentsHost, Catch, ExceptionFilter, HttpException, HttpStatus, Logger } from '@nestjs/common';
import { z } from 'zod';
import { StreamVersionConflictError } from '@assent/eventstore';

/** RFC 9457 problem details, the body of every error response. */
export interface ProblemDetails {
  type: string;
  title: string;
  status: number;
  detail?: string;
  instance?: string;
  [extension: string]: unknown;
}

/** A request body or parameter that does not match its schema: 400 with every issue listed. */
export class RequestValidationError extends HttpException {
  constructor(readonly issues: z.core.$ZodIssue[]) {
    super('the request does not match its schema', HttpStatus.BAD_REQUEST);
  }
}

interface HttpResponse {
  status(code: number): HttpResponse;
  setHeader(name: string, value: string): void;
  end(body: string): void;
  headersSent?: boolean;
}

/** Every error leaves as application/problem+json; unexpected ones say nothing of their internals. */
@Catch()
export class ProblemDetailsFilter implements ExceptionFilter {
  private readonly logger = new Logger('HTTP');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const http = host.switchToHttp();
    const request = http.getRequest<{ originalUrl?: string; url?: string }>();
    const response = http.getResponse<HttpResponse>();
    const problem = toProblem(exception, request.originalUrl ?? request.url);
    if (problem.status >= 500) this.logger.error(exception instanceof Error ? exception.stack : String(exception));
    if (response.headersSent) return;
    response.status(problem.status);
    response.setHeader('Content-Type', 'application/problem+json');
    response.end(JSON.stringify(problem));
  }
}

export function toProblem(exception: unknown, instance?: string): ProblemDetails {
  if (exception instanceof RequestValidationError) {
    return {
      type: 'https://assent.dev/problems/invalid-request',
      title: 'Invalid request',
      status: 400,
      detail: exception.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '),
      instance,
      issues: exception.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    };
  }
  if (exception instanceof HttpException) {
    const status = exception.getStatus();
    const body = exception.getResponse();
    const detail =
      typeof body === 'string'
        ? body
        : typeof body === 'object' && body && 'message' in body
          ? [body.message].flat().join('; ')
          : exception.message;
    const title = HttpStatus[status]?.toLowerCase().replace(/_/g, ' ') ?? 'error';
    // An exception may name its own problem type and title (e.g. idempotency-key-reused among 422s).
    const own = typeof body === 'object' && body !== null ? (body as { type?: unknown; title?: unknown }) : {};
    return {
      type: typeof own.type === 'string' ? own.type : `https://assent.dev/problems/${title.replace(/ /g, '-')}`,
      title: typeof own.title === 'string' ? own.title : title.charAt(0).toUpperCase() + title.slice(1),
      status,
      detail,
      instance,
    };
  }
  if (exception instanceof StreamVersionConflictError) {
    // Another request changed the same thing at the same moment; nothing of this one was kept.
    return {
      type: 'https://assent.dev/problems/concurrent-change',
      title: 'Conflict',
      status: 409,
      detail: 'another request changed this at the same time; nothing was done, retry',
      instance,
    };
  }
  return {
    type: 'https://assent.dev/problems/internal',
    title: 'Internal server error',
    status: 500,
    detail: 'something went wrong on our side; nothing was charged twice, and the request can be retried',
    instance,
  };
}

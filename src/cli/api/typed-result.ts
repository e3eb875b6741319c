// Result unions of the API: a success type or a typed error (`... on Error { code message }`).
// Callers name the success type they expect; anything else becomes a domain-error CliError.

import { CliError, ExitCode } from '../exit-codes.js';

export interface ApiError {
  __typename: string;
  code: string;
  message: string;
}

export type Result<TSuccess extends { __typename: string }> = TSuccess | ApiError;

export function isApiError(value: { __typename: string }): value is ApiError {
  return typeof (value as Partial<ApiError>).code === 'string' && typeof (value as Partial<ApiError>).message === 'string';
}

export function domainError(error: ApiError): CliError {
  return new CliError(`${error.message} (${error.code})`, ExitCode.DOMAIN_ERROR, error.code);
}

/** Returns the success member of a result union, or throws its typed error as a CliError. */
export function expectResult<TName extends string, TSuccess extends { __typename: TName }>(
  result: TSuccess | ApiError,
  typename: TName,
): TSuccess {
  if (result.__typename === typename && !isApiError(result)) return result as TSuccess;
  if (isApiError(result)) throw domainError(result);
  throw new CliError(`unexpected result type ${result.__typename} (expected ${typename})`, ExitCode.SERVER_ERROR);
}

/**
 * OTS error codes, their HTTP statuses, and the error type the emulator throws internally.
 *
 * @packageDocumentation
 */

/**
 * HTTP status the service answers for each OTS error code. Used for the emulator's own errors
 * and as the default status of injected faults.
 */
export const OTS_ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  OTSAuthFailed: 403,
  OTSNoPermissionAccess: 403,
  OTSParameterInvalid: 400,
  OTSInvalidPK: 400,
  OTSOutOfColumnCountLimit: 400,
  OTSOutOfRowSizeLimit: 400,
  OTSConditionCheckFail: 403,
  OTSNotEnoughCapacityUnit: 403,
  OTSQuotaExhausted: 403,
  OTSObjectNotExist: 404,
  OTSTableNotReady: 404,
  OTSMethodNotAllowed: 405,
  OTSRequestTimeout: 408,
  OTSObjectAlreadyExist: 409,
  OTSRowOperationConflict: 409,
  OTSRequestBodyTooLarge: 413,
  OTSInternalServerError: 500,
  OTSServerBusy: 503,
  OTSPartitionUnavailable: 503,
  OTSServerUnavailable: 503,
  OTSTimeout: 503,
  OTSStorageServerBusy: 503,
  OTSOperationThrottled: 503,
});

/** Default message per code, used by injected faults that give none. */
export const OTS_ERROR_MESSAGE: Readonly<Record<string, string>> = Object.freeze({
  OTSAuthFailed: 'Signature mismatch.',
  OTSParameterInvalid: 'The input parameter is invalid.',
  OTSConditionCheckFail: 'Condition check failed.',
  OTSNotEnoughCapacityUnit: 'Remaining capacity unit is not enough.',
  OTSQuotaExhausted: 'Too frequent table operations.',
  OTSObjectNotExist: 'Requested table does not exist.',
  OTSTableNotReady: 'The table is not ready.',
  OTSObjectAlreadyExist: 'Requested table already exists.',
  OTSRowOperationConflict: 'Data is being modified by the other request.',
  OTSRequestBodyTooLarge: 'The size of POST data is too large.',
  OTSInternalServerError: 'Internal server error.',
  OTSServerBusy: 'Server is busy.',
  OTSPartitionUnavailable: 'The partition is not available.',
  OTSServerUnavailable: 'Server is unavailable.',
  OTSTimeout: 'Operation timeout.',
  OTSStorageServerBusy: 'Storage server is busy.',
});

/** Default HTTP status for an OTS code: the service's status, or 500 for an unknown code. */
export function statusForCode(code: string): number {
  return OTS_ERROR_STATUS[code] ?? 500;
}

/** An error the emulator answers as protobuf `Error{code, message}` with an HTTP status. */
export class OtsError extends Error {
  override readonly name = 'OtsError';
  /** The OTS error code, e.g. `OTSParameterInvalid`. */
  readonly code: string;
  /** The HTTP status of the response. */
  readonly status: number;

  constructor(code: string, message: string, status: number = statusForCode(code)) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

/** `400 OTSParameterInvalid` with the given message. */
export function invalid(message: string): OtsError {
  return new OtsError('OTSParameterInvalid', message);
}

/** `400 OTSParameterInvalid` for a feature the emulator does not implement. */
export function unsupported(feature: string): OtsError {
  return new OtsError('OTSParameterInvalid', `${feature} is not supported by the emulator (tablestore-timeline); see docs/emulator.md.`);
}

/** `404 OTSObjectNotExist` for a missing table. */
export function tableNotExist(): OtsError {
  return new OtsError('OTSObjectNotExist', 'Requested table does not exist.');
}

/**
 * The outbound path after routing, as stages composed once per mesh in undici's interceptor
 * style: each stage is made with the next and hands it the request, or answers the request
 * itself. A stage works on the request's record (observe/request-record.ts), which carries the
 * request, its routing decision and how it ends; nothing is built per request to chain them.
 */
import type { Dispatcher } from 'undici';
import type { RequestRecord } from '../observe/request-record.ts';

/** Takes the request further, or answers it; returns undici's `dispatch()` answer. */
export type Stage = (record: RequestRecord, handler: Dispatcher.DispatchHandler) => boolean;

export type { OutcomeClass } from '../../core/classify.js';
export { classifyHttp, type HttpClassifier } from './client/classify.js';
export { HttpError } from './client/errors.js';
export { type ResilientFetch, resilientFetch } from './client/fetch.js';
export type { ResilientFetchOptions } from './client/options.js';
export { currentRequest, type RequestContext } from './request-scope.js';

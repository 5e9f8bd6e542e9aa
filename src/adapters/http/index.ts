export { currentRequest, type RequestContext } from './request-scope.js';

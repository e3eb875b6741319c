// The cap on an HTTP request's body (MAX_REQUEST_BYTES): 413 before the body is read when its
// Content-Length says more, and a count of the bytes as they arrive when the body is chunked.
//
// yoga's own maxRequestBodySize counts every body through a web TransformStream, declared length
// or not; the pipeline behind it (an AbortController and a DOMException per request) cost about
// 0.15 ms per request on the sustained load benchmark's profile. A declared length needs no count:
// HTTP framing ends the body there, so only chunked bodies are piped through one.

import { createGraphQLError, type Plugin } from 'graphql-yoga';

/** A single non-negative integer: anything else (a list, a sign) is a malformed header, never "no limit". */
const CONTENT_LENGTH = /^\d+$/;

export function useRequestBodyLimit(limit: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!CONTENT_LENGTH.test(declared)) throw httpError('Content-Length header is invalid.', 400, 'BAD_REQUEST');
        if (Number(declared) > limit) throw tooLarge();
        return;
      }
      if (requestParser == null || request.body == null) return;
      setRequestParser((chunked) => requestParser(countingBody(chunked, limit, fetchAPI)));
    },
  };
}

type FetchApi = Parameters<NonNullable<Plugin['onRequestParse']>>[0]['fetchAPI'];

/** The request with a body that errors once more than `limit` bytes have come through. */
function countingBody(request: Request, limit: number, fetchAPI: FetchApi): Request {
  // A native stream pipes only into a native TransformStream, the ponyfill's into its own.
  const Transform = request.body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
  let bytes = 0;
  const body = (request.body as ReadableStream<Uint8Array>).pipeThrough(
    new Transform<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        bytes += chunk.byteLength;
        if (bytes > limit) controller.error(tooLarge());
        else controller.enqueue(chunk);
      },
    }),
  );
  return new fetchAPI.Request(request.url, { method: request.method, headers: request.headers, signal: request.signal, body, duplex: 'half' } as RequestInit);
}

function tooLarge(): Error {
  return httpError('Request body too large', 413, 'REQUEST_ENTITY_TOO_LARGE');
}

function httpError(message: string, status: number, code: string): Error {
  return createGraphQLError(message, { extensions: { http: { status }, code } });
}

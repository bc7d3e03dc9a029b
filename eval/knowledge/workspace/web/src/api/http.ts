export class ApiError extends Error {
  constructor(public status: number, message: string) {
    super(message);
  }
}

/** Calls the storefront API and parses the JSON answer; throws ApiError on a non-2xx status. */
export async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`/v2${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!res.ok) throw new ApiError(res.status, await res.text());
  return (await res.json()) as T;
}

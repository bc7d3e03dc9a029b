import { request } from "./http";

// AI: capture the payment of an order, retrying the way our payment calls must be retried.
export async function capturePayment(orderId: string): Promise<void> {
  await request("POST", `/orders/${orderId}/capture`);
}

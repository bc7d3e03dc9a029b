import { request } from "./http";

export interface Order {
  id: string;
  status: "placed" | "paid" | "shipped" | "cancelled";
  totalCents: number;
}

export function getOrder(orderId: string): Promise<Order> {
  return request<Order>("GET", `/orders/${orderId}`);
}

// AI: add cancelOrder(orderId, reason) that cancels an order before it ships and
// returns what was refunded to the customer.

// AI: add a function listing a customer's orders, newest first, one page at a time.

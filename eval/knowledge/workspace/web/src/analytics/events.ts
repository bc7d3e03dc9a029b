export function track(name: string, properties: Record<string, unknown>): void {
  (window as any).analytics?.track(name, properties);
}

export interface Cart {
  id: string;
  items: { sku: string; quantity: number; priceCents: number }[];
}

// AI: emit the analytics event for a user opening the checkout with this cart.
export function onCheckoutOpened(cart: Cart): void {}

// AI: report that the server accepted a discount code, with how much it took off.
export function onDiscountAccepted(code: string, discountCents: number): void {}

// The generator's datasets and their record types as data: what the compiler reads to type a generator source
// without a declared type (the connector's schema fragment), and the generator checks its options against.

export type Dataset = 'orders' | 'clicks' | 'payments' | 'users' | 'inventory';

export const datasetNames: readonly Dataset[] = ['orders', 'clicks', 'payments', 'users', 'inventory'];

export function isDataset(name: unknown): name is Dataset {
  return typeof name === 'string' && (datasetNames as readonly string[]).includes(name);
}

/** Each dataset's fields, in record order, with their spec types: the type a generator source gets when the spec names none. */
export const datasetTypes: Record<Dataset, Record<string, string>> = {
  orders: {
    order_id: 'string',
    user_id: 'string',
    product_id: 'string',
    category: 'string',
    price: 'float',
    quantity: 'int',
    event_type: 'string',
    ts: 'timestamp',
    coupon: 'string?',
  },
  clicks: {
    user_id: 'string',
    session_id: 'string',
    page: 'string',
    product_id: 'string?',
    referrer: 'string?',
    device: 'string',
    ts: 'timestamp',
  },
  payments: {
    payment_id: 'string',
    user_id: 'string',
    amount: 'float',
    currency: 'string',
    card_country: 'string',
    ip_country: 'string',
    merchant: 'string',
    status: 'string',
    ts: 'timestamp',
  },
  users: {
    user_id: 'string',
    name: 'string',
    country: 'string',
    tier: 'string',
    signup_ts: 'timestamp',
    ts: 'timestamp',
  },
  inventory: {
    product_id: 'string',
    warehouse: 'string',
    stock: 'int',
    delta: 'int',
    ts: 'timestamp',
  },
};

// The generator's e-commerce datasets (DESIGN §4.7): the record types, a shared catalog, and the i-th record of each.
//
// Every record is a function of (seed, sequence number, event time) only, so shards partition one stream exactly.
// The catalog (products with their category and price, users with their country, name and tier) is the same for
// every seed: two generator sources with different seeds still describe the same shop, so joins between datasets
// (orders with users, payments with users) line up.

import { mix32 } from '../../hash.ts';
import { Random, hash3, unit } from './random.ts';

export { type Dataset, datasetNames, isDataset, datasetTypes } from './schema.ts';
import type { Dataset } from './schema.ts';

export interface Order {
  order_id: string;
  user_id: string;
  product_id: string;
  category: string;
  price: number;
  quantity: number;
  event_type: string;
  ts: number;
  coupon: string | null;
}

export interface Click {
  user_id: string;
  session_id: string;
  page: string;
  product_id: string | null;
  referrer: string | null;
  device: string;
  ts: number;
}

export interface Payment {
  payment_id: string;
  user_id: string;
  amount: number;
  currency: string;
  card_country: string;
  ip_country: string;
  merchant: string;
  status: string;
  ts: number;
}

export interface User {
  user_id: string;
  name: string;
  country: string;
  tier: string;
  signup_ts: number;
  ts: number;
}

export interface InventoryChange {
  product_id: string;
  warehouse: string;
  stock: number;
  delta: number;
  ts: number;
}

/** What every record of one generator source shares. */
export interface DatasetContext {
  /** The seed as a 32-bit word (`seedWord`). */
  readonly seed: number;
  /** Epoch ms of record 0. */
  readonly start: number;
}

/** Produces record `sequence`; `random` has been positioned at that record, `eventTime` is its (possibly late) event time. */
export type RecordGenerator = (random: Random, sequence: number, eventTime: number, context: DatasetContext) => object;

/** A choice among values with fixed weights, drawn from a uniform fraction by binary search over the cumulative weights. */
class Weighted<T> {
  private readonly values: readonly T[];
  private readonly cumulative: Float64Array;

  constructor(entries: readonly (readonly [T, number])[]) {
    this.values = entries.map(([value]) => value);
    this.cumulative = new Float64Array(entries.length);
    const total = entries.reduce((sum, [, weight]) => sum + weight, 0);
    let running = 0;
    entries.forEach(([, weight], index) => {
      running += weight;
      this.cumulative[index] = running / total;
    });
    this.cumulative[entries.length - 1] = 1;
  }

  /** The value whose cumulative share first exceeds `fraction` (in [0, 1)). */
  pick(fraction: number): T {
    const cumulative = this.cumulative;
    let low = 0;
    let high = cumulative.length - 1;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (cumulative[middle] > fraction) high = middle;
      else low = middle + 1;
    }
    return this.values[low];
  }
}

function padded(prefix: string, number: number, width: number): string {
  return prefix + String(number).padStart(width, '0');
}

/** Cents to a price with two decimals (the nearest double to the decimal, which prints as written). */
function fromCents(cents: number): number {
  return Math.round(cents) / 100;
}

/** A fixed shuffle of 0..count-1, so the most active users and products are spread over the id range. */
function shuffled(count: number, random: Random): number[] {
  const order = Array.from({ length: count }, (_, index) => index);
  for (let index = count - 1; index > 0; index--) {
    const other = random.below(index + 1);
    [order[index], order[other]] = [order[other], order[index]];
  }
  return order;
}

/** Zipf-like popularity over ranks: weight 1 / (rank + offset); a larger offset flattens the head. */
function popularity(order: readonly number[], offset: number): Weighted<number> {
  return new Weighted(order.map((item, rank) => [item, 1 / (rank + offset)] as const));
}

// ---------------------------------------------------------------------------------------------------------------
// The catalog, built once from a fixed seed.

const catalogRandom = new Random();
catalogRandom.seek(0xca7a109, 0);

export const categories = ['electronics', 'books', 'clothing', 'home', 'sports', 'toys', 'beauty', 'grocery'] as const;

/** Price range per category, in cents. */
const categoryPrices: Record<(typeof categories)[number], readonly [number, number]> = {
  electronics: [1999, 199999],
  books: [499, 5999],
  clothing: [999, 19999],
  home: [799, 49999],
  sports: [999, 59999],
  toys: [499, 9999],
  beauty: [299, 9999],
  grocery: [100, 4999],
};

export const PRODUCT_COUNT = 500;
const productIds: string[] = [];
const productPages: string[] = [];
const productCategories: string[] = [];
const productPrices: number[] = [];
for (let product = 0; product < PRODUCT_COUNT; product++) {
  const category = categories[catalogRandom.below(categories.length)];
  const [low, high] = categoryPrices[category];
  const skew = catalogRandom.next();
  productIds.push(padded('p-', product + 1, 4));
  productPages.push('/product/' + productIds[product]);
  productCategories.push(category);
  // Cubed so that most products are at the cheap end of their category.
  productPrices.push(fromCents(low + (high - low) * skew * skew * skew));
}
const productPopularity = popularity(shuffled(PRODUCT_COUNT, catalogRandom), 2);

const countries = ['US', 'DE', 'GB', 'FR', 'IN', 'BR', 'JP', 'CA', 'NL', 'ES', 'AU'] as const;
const countryWeights: readonly number[] = [30, 10, 10, 8, 8, 7, 6, 6, 5, 5, 5];
const currencies: Record<(typeof countries)[number], string> = {
  US: 'USD', DE: 'EUR', GB: 'GBP', FR: 'EUR', IN: 'INR', BR: 'BRL', JP: 'JPY', CA: 'CAD', NL: 'EUR', ES: 'EUR', AU: 'AUD',
};
const countryChoice = new Weighted(countries.map((_, index) => [index, countryWeights[index]] as const));

const tiers = ['free', 'silver', 'gold', 'platinum'] as const;
const tierChoice = new Weighted<string>([['free', 70], ['silver', 20], ['gold', 8], ['platinum', 2]]);

const firstNames = [
  'Ada', 'Ben', 'Chloe', 'Dmitri', 'Elena', 'Farah', 'Gustav', 'Hana', 'Ivan', 'Julia', 'Kenji', 'Lena',
  'Mateo', 'Nadia', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sven', 'Tara', 'Umar', 'Vera', 'Wei', 'Yara',
] as const;
const lastNames = [
  'Andersen', 'Bauer', 'Costa', 'Dubois', 'Evans', 'Fischer', 'Garcia', 'Hansen', 'Ito', 'Jansen', 'Kim', 'Lopez',
  'Martin', 'Novak', 'Okafor', 'Patel', 'Rossi', 'Silva', 'Tanaka', 'Usman', 'Vogel', 'Weber', 'Xu', 'Young',
] as const;

export const USER_COUNT = 5000;
const userIds: string[] = [];
const userNames: string[] = [];
const userCountries: number[] = [];
const userTiers: string[] = [];
const userSignupAges: number[] = [];
const DAY_MS = 86_400_000;
for (let user = 0; user < USER_COUNT; user++) {
  userIds.push(padded('u-', user, 4));
  userNames.push(firstNames[catalogRandom.below(firstNames.length)] + ' ' + lastNames[catalogRandom.below(lastNames.length)]);
  userCountries.push(countryChoice.pick(catalogRandom.next()));
  userTiers.push(tierChoice.pick(catalogRandom.next()));
  userSignupAges.push(catalogRandom.between(1, 1000) * DAY_MS + catalogRandom.below(DAY_MS));
}
// A heavy head: the most active user is about 100 times as active as the least active one.
const userActivity = popularity(shuffled(USER_COUNT, catalogRandom), 50);

// ---------------------------------------------------------------------------------------------------------------
// orders

const quantityChoice = new Weighted<number>([[0, 2], [1, 49], [2, 24], [3, 12], [4, 8], [5, 5]]);
const orderEventChoice = new Weighted<string>([['purchase', 60], ['view', 25], ['add_to_cart', 10], ['refund', 5]]);
const couponChoice = new Weighted<string | null>([
  [null, 80], ['SAVE10', 7], ['SAVE20', 3], ['WELCOME5', 4], ['FREESHIP', 4], ['VIP15', 2],
]);

const orders: RecordGenerator = (random, sequence, eventTime): Order => {
  const product = productPopularity.pick(random.next());
  return {
    order_id: 'o-' + sequence,
    user_id: userIds[userActivity.pick(random.next())],
    product_id: productIds[product],
    category: productCategories[product],
    price: productPrices[product],
    quantity: quantityChoice.pick(random.next()),
    event_type: orderEventChoice.pick(random.next()),
    ts: eventTime,
    coupon: couponChoice.pick(random.next()),
  };
};

// ---------------------------------------------------------------------------------------------------------------
// clicks: sessions come from a fixed number of concurrent session slots. Each slot runs one user's session for
// SESSION_SPAN records, then hands over to another user, so a user's clicks cluster in time the way session
// windows expect. A session keeps its device and referrer.

const SESSION_SLOTS = 16;
const SESSION_SPAN = 320;
const SESSION_TAG = 0x5e55;
const pageChoice = new Weighted<string>([
  ['/', 10], ['/search', 18], ['product', 45], ['/cart', 10], ['/checkout', 6], ['/account', 6], ['/help', 5],
]);
const deviceChoice = new Weighted<string>([['mobile', 55], ['desktop', 38], ['tablet', 7]]);
const referrerChoice = new Weighted<string | null>([
  [null, 35], ['google', 30], ['email', 10], ['facebook', 8], ['instagram', 7], ['bing', 5], ['tiktok', 5],
]);

const clicks: RecordGenerator = (random, sequence, eventTime, context): Click => {
  const slot = random.below(SESSION_SLOTS);
  // Slots hand over at staggered sequence numbers, so sessions do not all end together.
  const session = Math.floor((sequence + slot * (SESSION_SPAN / SESSION_SLOTS)) / SESSION_SPAN);
  const sessionHash = hash3(context.seed, SESSION_TAG + slot, session);
  const page = pageChoice.pick(random.next());
  const product = page === 'product' ? productPopularity.pick(random.next()) : -1;
  return {
    user_id: userIds[userActivity.pick(unit(sessionHash))],
    session_id: 's-' + session + '-' + slot,
    page: product >= 0 ? productPages[product] : page,
    product_id: product >= 0 ? productIds[product] : null,
    referrer: referrerChoice.pick(unit(mix32(sessionHash ^ 0x2))),
    device: deviceChoice.pick(unit(mix32(sessionHash ^ 0x1))),
    ts: eventTime,
  };
};

// ---------------------------------------------------------------------------------------------------------------
// payments: mostly ordinary card payments; about one block of FRAUD_BLOCK records in seven holds a burst in which
// one user's card is used from another country, with small probing charges and a few large ones.

const FRAUD_BLOCK = 1000;
const FRAUD_BURST = 60;
const FRAUD_BLOCK_SHARE = 0.15;
const FRAUD_TAG = 0xf4a0d;
const merchantChoice = new Weighted<string>([
  ['acme-market', 14], ['bookworm', 8], ['city-grocer', 12], ['fashion-hub', 10], ['gadget-world', 10],
  ['home-living', 8], ['kids-corner', 6], ['fit-sports', 6], ['glow-beauty', 6], ['streamflix', 8],
  ['rail-tickets', 6], ['coffee-house', 6],
]);
const fraudMerchantChoice = new Weighted<string>([['giftcards-direct', 4], ['crypto-xpress', 3], ['e-vouchers', 3], ['gadget-world', 2]]);
const paymentStatusChoice = new Weighted<string>([['approved', 94], ['declined', 5], ['pending', 1]]);

const payments: RecordGenerator = (random, sequence, eventTime, context): Payment => {
  const block = Math.floor(sequence / FRAUD_BLOCK);
  const blockHash = hash3(context.seed, FRAUD_TAG, block);
  if (unit(blockHash) < FRAUD_BLOCK_SHARE) {
    const burstStart = block * FRAUD_BLOCK + (mix32(blockHash ^ 0xb) % (FRAUD_BLOCK - FRAUD_BURST));
    if (sequence >= burstStart && sequence < burstStart + FRAUD_BURST && random.next() < 0.5) {
      const user = mix32(blockHash ^ 0xc) % USER_COUNT;
      const country = userCountries[user];
      const ipCountry = (country + 1 + (mix32(blockHash ^ 0xd) % (countries.length - 1))) % countries.length;
      const probe = random.next() < 0.75;
      return {
        payment_id: 'pay-' + sequence,
        user_id: userIds[user],
        amount: fromCents(probe ? random.between(100, 500) : random.between(50_000, 199_999)),
        currency: currencies[countries[country]],
        card_country: countries[country],
        ip_country: countries[ipCountry],
        merchant: fraudMerchantChoice.pick(random.next()),
        status: random.next() < 0.35 ? 'declined' : 'approved',
        ts: eventTime,
      };
    }
  }
  const user = userActivity.pick(random.next());
  const country = userCountries[user];
  const skew = random.next();
  return {
    payment_id: 'pay-' + sequence,
    user_id: userIds[user],
    amount: fromCents(500 + 49_500 * skew * skew * skew),
    currency: currencies[countries[country]],
    card_country: countries[country],
    // Travellers: a few honest payments come from abroad too.
    ip_country: random.next() < 0.96 ? countries[country] : countries[random.below(countries.length)],
    merchant: merchantChoice.pick(random.next()),
    status: paymentStatusChoice.pick(random.next()),
    ts: eventTime,
  };
};

// ---------------------------------------------------------------------------------------------------------------
// users: profile updates (an upsert stream keyed by user_id) for temporal joins. Most updates repeat the user's
// catalog country and tier; some move the user or change the tier.

const users: RecordGenerator = (random, _sequence, eventTime, context): User => {
  const user = random.below(USER_COUNT);
  return {
    user_id: userIds[user],
    name: userNames[user],
    country: countries[random.next() < 0.98 ? userCountries[user] : random.below(countries.length)],
    tier: random.next() < 0.85 ? userTiers[user] : tiers[random.below(tiers.length)],
    signup_ts: context.start - userSignupAges[user],
    ts: eventTime,
  };
};

// ---------------------------------------------------------------------------------------------------------------
// inventory: stock changes per product and warehouse; popular products sell more often, some run out.

const warehouses = ['ams-1', 'fra-1', 'iad-1', 'sfo-1', 'sin-1', 'gru-1'] as const;

const inventory: RecordGenerator = (random, _sequence, eventTime): InventoryChange => {
  const product = productPopularity.pick(random.next());
  const warehouse = warehouses[random.below(warehouses.length)];
  const kind = random.next();
  // A sale (85%), a restock (10%) or a stock-count correction (5%).
  const delta = kind < 0.85 ? -random.between(1, 5) : kind < 0.95 ? random.between(20, 200) : random.between(-10, 10);
  const stock = random.next() < 0.03 ? 0 : random.between(1, 1000);
  return {
    product_id: productIds[product],
    warehouse,
    stock: delta > 0 ? Math.max(stock, delta) : stock,
    delta,
    ts: eventTime,
  };
};

export const recordGenerators: Record<Dataset, RecordGenerator> = { orders, clicks, payments, users, inventory };

/** Cents to the dollars shoppers read and the batch format carries (two decimals, exact for integers). */
export function toDollars(cents: number): number {
  return Math.round(cents) / 100;
}

/** "$1,234.56" */
export function formatUsd(cents: number): string {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(Math.round(cents));
  const dollars = Math.floor(abs / 100).toLocaleString('en-US');
  return `${sign}$${dollars}.${String(abs % 100).padStart(2, '0')}`;
}

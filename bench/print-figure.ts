/** One figure of `npm run bench`: a JSON object on a line of its own, its value to three decimals. */
export function print(figure: string, value: number, context: Record<string, unknown> = {}): void {
  console.log(JSON.stringify({ figure, value: Number(value.toFixed(3)), ...context }));
}

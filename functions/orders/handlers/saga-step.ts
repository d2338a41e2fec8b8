/** The state machine's task Lambda: one entry point, dispatched by `step`. Built by the saga issue. */
export const handler = async (event: { step: string; orderId: string }): Promise<never> => {
  throw new Error(`Saga step ${event.step} is not implemented yet (order ${event.orderId})`);
};

-- A payment outcome that arrives before the saga's WaitForPayment stored its task token
-- (the customer paid very fast): kept on the order, handed over when the token is stored.
ALTER TABLE orders ADD COLUMN IF NOT EXISTS early_payment jsonb;

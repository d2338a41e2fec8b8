-- PayPal sessions carry the buyer's approval link (Stripe ones a client secret instead).
ALTER TABLE payment_sessions ADD COLUMN IF NOT EXISTS approve_url text;

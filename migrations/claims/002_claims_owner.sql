-- The caller's own id for its current attempt: a caller that re-asks (its first answer was
-- lost to a timeout) gets its in-flight claim back instead of "in flight".
ALTER TABLE claims ADD COLUMN owner text CHECK (owner IS NULL OR length(owner) BETWEEN 1 AND 128);

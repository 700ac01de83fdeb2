-- Snoozed price alerts (issue 12): a fired alert the user snoozed is armed again, and fires on
-- the first fresh price past its level once `snoozed_until` has passed (NULL: not snoozed).

ALTER TABLE alerts ADD COLUMN snoozed_until TEXT;

-- Due notifications are claimed in time order with ties broken by id (a batch's rows share
-- their time): the index serves that order.
DROP INDEX notifications_due;
CREATE INDEX notifications_due ON notifications (next_attempt_at, id) WHERE state = 'pending';

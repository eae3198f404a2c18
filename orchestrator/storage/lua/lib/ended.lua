-- The terminal job statuses: an ended job hands out no task and takes no result, whatever its
-- task fields say (nothing may follow its terminal event).
local ended = {finished = true, failed = true, cancelled = true, error = true, quarantined = true}

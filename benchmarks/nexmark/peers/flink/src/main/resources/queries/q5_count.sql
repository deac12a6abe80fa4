-- q5's first half (the windowed count the Python peers run): bids per auction in each
-- HOP window of 10 s sliding by 2 s, with the window's end.
SELECT window_end, auction, COUNT(*) AS num
FROM TABLE(HOP(TABLE bid, DESCRIPTOR(`dateTime`), INTERVAL '2' SECOND, INTERVAL '10' SECOND))
GROUP BY auction, window_start, window_end

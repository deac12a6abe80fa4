-- Nexmark q13 (bounded side input join). nexmark-flink's q13.sql joins a file-backed table
-- FOR SYSTEM_TIME AS OF the bid's processing time; here the side table is pycql's
-- side_input topic (an upsert table keyed on side_key), joined as of the bid's event time,
-- as pycql's q13 does (Kafka is no lookup source).
SELECT B.auction, B.bidder, B.price, B.`dateTime`, S.side_value
FROM bid B
JOIN side_input FOR SYSTEM_TIME AS OF B.`dateTime` AS S
ON MOD(B.auction, 10000) = S.side_key

-- Nexmark q1 (currency conversion), as nexmark-flink's q1.sql.
SELECT auction, bidder, 0.908 * price AS price, `dateTime`, extra FROM bid

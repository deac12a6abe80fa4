-- Nexmark q0 (pass through), as nexmark-flink's q0.sql.
SELECT auction, bidder, price, `dateTime`, extra FROM bid

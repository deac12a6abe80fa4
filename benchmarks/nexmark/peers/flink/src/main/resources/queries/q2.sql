-- Nexmark q2 (selection), as nexmark-flink's q2.sql.
SELECT auction, price FROM bid WHERE MOD(auction, 123) = 0

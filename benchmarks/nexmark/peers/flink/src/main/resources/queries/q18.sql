-- Nexmark q18 (find last bid), as nexmark-flink's q18.sql.
SELECT auction, bidder, price, channel, url, `dateTime`, extra
FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY bidder, auction ORDER BY `dateTime` DESC)
          AS rank_number
      FROM bid)
WHERE rank_number <= 1

-- Nexmark q6 (average selling price by seller), as nexmark-flink's q6.sql. Flink itself
-- rejects it (its OVER window does not take the ROW_NUMBER's retractions); it is run so
-- that the table says so.
SELECT Q.seller,
       AVG(Q.price) OVER (PARTITION BY Q.seller ORDER BY Q.`dateTime`
                          ROWS BETWEEN 10 PRECEDING AND CURRENT ROW) AS avg_price
FROM (
    SELECT *, ROW_NUMBER() OVER (PARTITION BY id, seller ORDER BY price DESC) AS rownum
    FROM (SELECT A.id, A.seller, B.price, B.`dateTime`
          FROM auction AS A, bid AS B
          WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires)
) AS Q
WHERE Q.rownum <= 1

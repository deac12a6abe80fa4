-- Nexmark q4 (average price per category), as nexmark-flink's q4.sql; the lifetime test
-- compares the epoch-millisecond columns (date_time, expires), the same order as the
-- timestamps.
SELECT Q.category, AVG(Q.final) AS avg_final
FROM (
    SELECT MAX(B.price) AS final, A.category
    FROM auction A, bid B
    WHERE A.id = B.auction AND B.date_time BETWEEN A.date_time AND A.expires
    GROUP BY A.id, A.category
) Q
GROUP BY Q.category

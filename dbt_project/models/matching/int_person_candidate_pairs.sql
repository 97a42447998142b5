-- Candidate pairs for records that a valid ID number cannot place on its own (check digit failed,
-- blank, malformed). Records sharing a valid ID number are one person by rule and are not paired
-- here; two different valid ID numbers are never paired. Blocking is by equality joins only, so
-- the cost grows linearly with the data.
with records as (
    select * from {{ ref('int_person_records') }}
),

open_records as (
    select * from records
    where not has_valid_id
),

-- An ID with one wrong character: the same 17 of 18 positions. Two such IDs agree on at least three
-- of the four parts 1-5, 6-10, 11-14 and 15-18, so they share the ID with one part taken out: four keys a
-- record instead of one mask per position (18 at 1M records: 20M strings); of two IDs of 18 characters
-- levenshtein() <= 1 (no insertion without a deletion) keeps those at most one substitution apart,
-- the pairs the 18 masks gave.
id_masks as (
    select record_key, id_number, p.part_start, substr(id_number, 1, p.part_start - 1) || substr(id_number, p.part_start + p.part_length) as masked
    from records, (values (1, 5), (6, 5), (11, 4), (15, 4)) as p (part_start, part_length)
    where length(id_number) = 18
),

open_id_masks as (
    select m.* from id_masks m semi join open_records o on m.record_key = o.record_key
),

by_id_substitution as (
    select o.record_key as a, m.record_key as b, 'id_one_char' as rule
    from open_id_masks o
    join id_masks m on m.part_start = o.part_start and m.masked = o.masked and m.record_key <> o.record_key
    where levenshtein(o.id_number, m.id_number) <= 1
),

-- Two adjacent digits swapped: spell out the 17 swaps of each open record first, so that the join is
-- an equality join (a join on an expression of both sides is a nested loop: minutes at 1M records).
open_transposed as (
    select
        o.record_key,
        substr(o.id_number, 1, pos - 1) || substr(o.id_number, pos + 1, 1)
        || substr(o.id_number, pos, 1) || substr(o.id_number, pos + 2) as swapped
    from open_records o, range(1, 18) as t (pos)  -- noqa: AL05
    where length(o.id_number) = 18
),

by_id_transposition as (
    select o.record_key as a, r.record_key as b, 'id_transposed' as rule
    from open_transposed o
    join records r on r.id_number = o.swapped
    where r.record_key <> o.record_key
),

by_same_id as (
    select o.record_key as a, r.record_key as b, 'id_same_unchecked' as rule
    from open_records o join records r on r.id_number = o.id_number and r.record_key <> o.record_key
),

by_name_birth as (
    select o.record_key as a, r.record_key as b, 'pinyin_birth' as rule
    from open_records o
    join records r on r.name_pinyin_key = o.name_pinyin_key and r.birth_date = o.birth_date
    where r.record_key <> o.record_key
),

by_name_address as (
    select o.record_key as a, r.record_key as b, 'pinyin_address' as rule
    from open_records o
    join records r
        on
            r.name_pinyin_key = o.name_pinyin_key
            and (r.address_key = o.address_key or r.registered_address_key = o.address_key or r.address_key = o.registered_address_key)
    where r.record_key <> o.record_key
),

by_name_phone as (
    select o.record_key as a, r.record_key as b, 'pinyin_phone' as rule
    from open_records o
    join records r on r.name_pinyin_key = o.name_pinyin_key and r.phone = o.phone
    where r.record_key <> o.record_key
),

-- Last resort for records with nothing else (e.g. a graduate without ID number or phone): the
-- same name, when the name is rare in the district. The score decides; most land in review.
name_counts as (
    select name, count(*) as n from records
    group by name
),

by_rare_name as (
    select o.record_key as a, r.record_key as b, 'rare_name' as rule
    from open_records o
    join name_counts c on c.name = o.name and c.n <= {{ var('rare_name_max_records') }}
    join records r on r.name = o.name and r.record_key <> o.record_key
),

all_pairs as (
    select * from by_id_substitution
    union all
    select * from by_id_transposition
    union all
    select * from by_same_id
    union all
    select * from by_name_birth
    union all
    select * from by_name_address
    union all
    select * from by_name_phone
    union all
    select * from by_rare_name
),

final as (
    select
        least(a, b) as record_a,
        greatest(a, b) as record_b,
        {{ ordered_string_agg('rule', ',', distinct=true) }} as blocking_rules
    from all_pairs
    group by least(a, b), greatest(a, b)
)

select * from final

-- How often each combination of kinds of evidence names the dwelling the police name, among the
-- labelled people (int_person_residence_labels) read as the person to place would be: the kinds
-- seen without a police address (a meter in their name is 'meter' only in the building the police
-- name: outside a named building their dwelling's kinds are read without it), and whether last
-- month's dwelling is among their evidence. Per scope ('building': the candidates in the labelled
-- person's building; 'any'), kinds and has_last_month: the cases, the Laplace-smoothed share p, and
-- p_upper, the upper Wilson bound of the share at z = residence_combination_bound_z.
-- A table of its own, read by int_person_placed (parts 1-3 of int_person_residence): Spark inlines a
-- CTE at every reference, and the estimate would be copied into each of the placements' references.
{% set z = var('residence_combination_bound_z') %}
with evidence as (
    select * from {{ ref('int_person_dwelling_evidence') }}
),

labels as (
    select * from {{ ref('int_person_residence_labels') }}
),

-- (the kinds of a candidate dwelling as a bit mask, the masks' few distinct sets spelt out after:
-- value_bits, mask_values)
kind_bits as (
    {{ value_bits('kind', 'evidence') }}
),

with_last_month as (
    select distinct cluster_key from evidence
    where kind = 'last_month'
),

labelled_masks as (
    select
        e.cluster_key, e.building, e.room,
        bit_or(b.bit) as mask,
        bit_or(b.bit) filter (where e.kind <> 'meter') as unplaced_mask,
        any_value(e.building = l.building) as in_label_building,
        any_value(e.building = l.building and e.room = l.room) as correct
    from evidence e
    join labels l using (cluster_key)
    join kind_bits b on e.kind = b.kind
    where e.kind <> 'own:police_population' and e.room is not null
    group by e.cluster_key, e.building, e.room
),

labelled_mask_set as (
    select mask from labelled_masks
    union
    select unplaced_mask as mask from labelled_masks
    where unplaced_mask is not null
),

mask_kinds as (
    {{ mask_values('labelled_mask_set', 'kind_bits', 'kind', '+', 'kinds') }}
),

labelled_candidates as (
    select
        k.kinds, ku.kinds as unplaced_kinds, c.in_label_building, c.correct,
        w.cluster_key is not null as has_last_month
    from labelled_masks c
    join mask_kinds k on c.mask = k.mask
    left join mask_kinds ku on c.unplaced_mask = ku.mask
    left join with_last_month w on w.cluster_key = c.cluster_key
),

combination_cases as (
    -- in the building the police name (cases: the candidates in the labelled person's building),
    -- and anywhere; the cases and how many of them name the labelled dwelling
    select
        'building' as scope, kinds, has_last_month,
        count(*) filter (where in_label_building) as cases,
        count(*) filter (where correct) as agree
    from labelled_candidates
    group by kinds, has_last_month
    union all
    select 'any' as scope, unplaced_kinds as kinds, has_last_month, count(*) as cases, count(*) filter (where correct) as agree
    from labelled_candidates
    where unplaced_kinds is not null
    group by unplaced_kinds, has_last_month
),

combination_reliability as (
    -- the combination's share of agreement (Laplace-smoothed), and the most its cases allow: the upper
    -- Wilson bound of that share at z = residence_combination_bound_z (1 where every case agrees)
    select
        scope, kinds, has_last_month, cases,
        (agree + 1.0) / (cases + 2.0) as p,
        (
            share + {{ z }} * {{ z }} / (2.0 * cases)
            + {{ z }} * sqrt(share * (1 - share) / cases + {{ z }} * {{ z }} / (4.0 * cases * cases))
        ) / (1 + {{ z }} * {{ z }} / cases) as p_upper
    from (
        select *, agree::double / cases::double as share from combination_cases
        where cases > 0
    ) as c
)

select scope, kinds, has_last_month, cases, p, p_upper from combination_reliability

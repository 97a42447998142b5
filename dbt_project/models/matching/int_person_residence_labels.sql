-- The people whose police 居住地址 names one room, at that dwelling: the labels int_person_placed
-- (parts 1-3 of int_person_residence) weighs each kind (and combination of kinds) of evidence by (how
-- often it names the same dwelling). A person the police have not caught up with is labelled with
-- where they moved: their police record is known to be out of date. A table of its own (read by
-- int_person_placed and int_person_residence_combinations): Spark inlines a CTE at every reference.
with evidence as (
    select * from {{ ref('int_person_dwelling_evidence') }}
),

moved as (
    select * from {{ ref('int_person_moves') }}
),

labels as (
    -- (a person the police have not caught up with is labelled with where they moved: their
    -- police record is known to be out of date)
    select
        e.cluster_key,
        coalesce(any_value(m.building), any_value(e.building)) as building,
        coalesce(any_value(m.room), any_value(e.room)) as room
    from evidence e
    left join moved m using (cluster_key)
    where e.kind = 'own:police_population'
    group by e.cluster_key
    having count(distinct e.building || '#' || e.room) = 1
)

select cluster_key, building, room from labels

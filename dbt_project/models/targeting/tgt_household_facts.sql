-- One row per household (dwelling) with living members in this delivery: its composition (ages,
-- living alone), social assistance now and in the previous delivery (through its members' records),
-- and this year's graduates without a job. What the screening scenario counts.
with persons as (
    select * from {{ ref('tgt_person_facts') }}
),

per_household as (
    select
        household_id,
        any_value(street_code) as street_code,
        any_value(community_code) as community_code,
        any_value(full_address) as full_address,
        any_value(delivery) as delivery,
        count(*) filter (where status = '正常') as living_members,
        count(*) filter (where status = '正常' and age >= {{ var('elderly_min_age') }}) as members_60_plus,
        count(*) filter (where status = '正常' and age >= {{ var('very_old_min_age') }}) as members_80_plus,
        count(*) filter (where status = '正常' and age < {{ var('working_age_from') }}) as members_under_18,
        count(*) filter (where status = '正常' and age between {{ var('working_age_from') }} and {{ var('working_age_to') }}) as members_working_age,
        count(*) filter (where status = '正常' and age is null) as members_age_unknown,
        count(*) filter (where status = '正常' and graduation_year = year(as_of) and employment_status = '未就业')
            as unemployed_graduates,
        max(age) filter (where status = '正常') as oldest_age,
        bool_or(on_elderly_alone_list) as has_elderly_alone_listed,
        max(aid_certificate_no) as aid_certificate_no,
        max(aid_type) as aid_type,
        bool_or(aided_in_previous_delivery) as aided_in_previous_delivery
    from persons
    -- a household placed at building level (室号不详) has no known composition
    where household_id is not null and room_known
    group by household_id
),

final as (
    select * from per_household
    where living_members > 0
)

select * from final

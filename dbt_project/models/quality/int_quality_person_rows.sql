-- Every person row of this delivery with the master person it resolved to, and where it is routed:
-- the person's household (standard address) first, else the row's own address in the library, else
-- the street and committee a civil-affairs row names itself (所属街道/所属居委).
with xref as (
    select source, source_file, source_row, person_id
    from {{ source('master', 'person_xref') }}
    where delivery = {{ current_delivery() }}
),

records as (
    select * from {{ ref('int_person_records') }}
),

divisions as (
    select * from {{ ref('stg_divisions') }}
),

named_community as (
    -- civil-affairs rows carry the committee (and the street) by name
    select source_file, source_row, street_name, community_name
    from {{ ref('stg_civil_affairs_assistance') }}
    where delivery = {{ current_delivery() }}
    union all
    select source_file, source_row, null, community_name
    from {{ ref('stg_civil_affairs_elderly_alone') }}
    where delivery = {{ current_delivery() }}
),

named_codes as (
    select
        n.source_file, n.source_row,
        min(d.street_code) as street_code, min(d.community_code) as community_code,
        count(distinct d.community_code) as candidates
    from named_community n
    join divisions d
        on
            d.community_name = n.community_name
            and (n.street_name is null or d.street_name = n.street_name)
    group by all
),

final as (
    select
        r.source, r.source_file, r.source_row,
        x.person_id,
        p.household_id,
        p.status as person_status,
        p.id_number as person_id_number,
        p.id_number_valid as person_id_number_valid,
        p.name as person_name,
        r.address_key, r.room,
        l.address_id as row_address_id,
        coalesce(h.street_code, l.street_code, case when nc.candidates = 1 then nc.street_code end) as street_code,
        coalesce(h.community_code, l.community_code, case when nc.candidates = 1 then nc.community_code end) as community_code
    from records r
    join xref x on x.source_file = r.source_file and x.source_row = r.source_row and x.source = r.source
    left join {{ source('master', 'person') }} p on p.person_id = x.person_id
    left join {{ source('master', 'household') }} h on h.household_id = p.household_id
    left join {{ ref('int_address_lookup') }} l on l.address_key = r.address_key
    left join named_codes nc on nc.source_file = r.source_file and nc.source_row = r.source_row
)

select * from final

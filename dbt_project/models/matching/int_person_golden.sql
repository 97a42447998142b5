-- One golden record per person (cluster): per field the value from the most trusted source
-- (source_rank of matching/matching.yml), then the most frequent; each value keeps its provenance (which source).
with records as (
    select
        r.*,
        case r.source
            {% for source, rank in var('source_rank').items() %}when '{{ source }}' then {{ rank }}
            {% endfor %}else 99
        end as source_rank
    from {{ ref('int_person_cluster_records') }} r
),

per_value as (
    -- one row per cluster, field and distinct value, with the support it has
    select
        cluster_key, 'id_number' as field, id_number as value, min(source_rank) as best_rank, count(*) as n,
        min_by(source, source_rank) as source
    from records
    where has_valid_id
    group by all
    union all
    select cluster_key, 'id_number_unchecked', id_number, min(source_rank), count(*), min_by(source, source_rank)
    from records
    where id_number is not null and not has_valid_id
    group by all
    union all
    select cluster_key, 'name', name, min(source_rank), count(*), min_by(source, source_rank)
    from records
    where name is not null
    group by all
    union all
    select cluster_key, 'sex', sex, min(source_rank), count(*), min_by(source, source_rank)
    from records
    where sex is not null
    group by all
    union all
    select cluster_key, 'birth_date', birth_date::string, min(source_rank), count(*), min_by(source, source_rank)
    from records
    where birth_date is not null
    group by all
    union all
    select cluster_key, 'phone', phone, min(source_rank), count(*), min_by(source, source_rank)
    from records
    where phone is not null
    group by all
    union all
    select cluster_key, 'person_status', person_status, min(source_rank), count(*), min_by(source, source_rank)
    from records
    where person_status is not null
    group by all
),

chosen as (
    select
        cluster_key, field, value, source,
        row_number() over (partition by cluster_key, field order by best_rank asc, n desc, value asc) as rank
    from per_value
),

pivoted as (
    select
        cluster_key,
        coalesce(max(value) filter (where field = 'id_number'), max(value) filter (where field = 'id_number_unchecked')) as id_number,
        max(value) filter (where field = 'id_number') is not null as id_number_valid,
        max(value) filter (where field = 'name') as name,
        max(source) filter (where field = 'name') as name_source,
        max(value) filter (where field = 'sex') as sex,
        max(source) filter (where field = 'sex') as sex_source,
        max(value) filter (where field = 'birth_date')::date as birth_date,
        max(source) filter (where field = 'birth_date') as birth_date_source,
        max(value) filter (where field = 'phone') as phone,
        max(source) filter (where field = 'phone') as phone_source,
        max(value) filter (where field = 'person_status') as person_status
    from chosen
    where rank = 1
    group by cluster_key
),

-- (a cluster's sources as a bit mask, the masks' few distinct sets spelt out after: value_bits,
-- mask_values)
source_bits as (
    {{ value_bits('source', 'records') }}
),

flag_masks as (
    select
        r.cluster_key,
        count(*) as record_count,
        bit_or(b.bit) as mask,
        bool_or(r.source = 'police_population') as in_police,
        max(case when r.source = 'civil_affairs_assistance' then r.family_key end) as aid_certificate_no,
        bool_or(r.source = 'civil_affairs_elderly_alone') as on_elderly_alone_list,
        bool_or(r.source = 'hr_graduates') as is_graduate
    from records r
    left join source_bits b on r.source = b.source
    group by r.cluster_key
),

mask_sources as (
    {{ mask_values('flag_masks', 'source_bits', 'source', ',', 'sources') }}
),

flags as (
    select
        f.cluster_key, f.record_count, s.sources, f.in_police, f.aid_certificate_no, f.on_elderly_alone_list,
        f.is_graduate
    from flag_masks f
    left join mask_sources s on f.mask = s.mask
),

final as (
    select p.*, f.record_count, f.sources, f.in_police, f.aid_certificate_no, f.on_elderly_alone_list, f.is_graduate
    from pivoted p join flags f using (cluster_key)
)

select * from final

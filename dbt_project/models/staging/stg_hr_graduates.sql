with source as (
    select * from {{ source('raw', 'hr_graduates') }}
    {{ new_raw_rows() }}
),

final as (
    select
        {{ lineage_columns() }},
        {{ name_columns('name') }},
        {{ id_number_columns('id_number') }},
        nullif(trim(school), '') as school,
        nullif(trim(degree), '') as degree,
        try_cast(regexp_extract(graduation_year, '\d{4}', 0) as integer) as graduation_year,
        employment_status as employment_status_raw,
        {{ vocab_value('employment_status', 'employment_status') }} as employment_status,
        {{ phone_columns('phone') }}
    from source
)

select * from final

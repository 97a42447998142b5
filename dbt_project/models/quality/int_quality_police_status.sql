-- What the police file of this delivery says about each person's status (正常/死亡/迁出), and since
-- when (更新日期). A person with rows saying different things takes the latest update.
with police as (
    select pr.person_id, p.person_status, p.updated_on, p.source_row
    from {{ ref('stg_police_population') }} p
    join {{ ref('int_quality_person_rows') }} pr
        on pr.source_file = p.source_file and pr.source_row = p.source_row and pr.source = p.source
    where p.delivery = {{ current_delivery() }} and p.person_status is not null
),

final as (
    select
        person_id,
        max_by(person_status, coalesce(updated_on, date '1900-01-01')) as police_status,
        max(updated_on) as status_updated_on
    from police
    group by person_id
)

select * from final
